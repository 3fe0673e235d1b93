"""Hypothesis strategies for EIP-712 documents: random struct types, nesting, arrays, every
primitive, and the value encodings callers really send (numbers as JSON numbers, decimal and hex
strings, addresses in any case), with a share of broken documents (wrong kinds, missing and
extra members, undefined types, odd type strings) so error paths are compared too."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

UINTS = [f"uint{n}" for n in range(8, 257, 8)]
INTS = [f"int{n}" for n in range(8, 257, 8)]
FIXED_BYTES = [f"bytes{n}" for n in range(1, 33)]
PRIMITIVES = ["address", "bool", "string", "bytes", *FIXED_BYTES, *UINTS, *INTS]
ODD_TYPES = ["uint", "int", "bytes0", "bytes33", "uint7", "Undefined", "address[x]", "string ", "function"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "<a&b>", "\u2028", "\x00\x1f", "héllo", "🚀", "'\"\\"]
)


def _integer(type_name: str, broken: bool) -> st.SearchStrategy[Any]:
    bits = int(type_name.lstrip("uint") or 256)
    signed = type_name.startswith("int")
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    value = st.integers(low, high) | st.sampled_from([low, high, 0])
    valid = st.one_of(
        value.map(lambda v: v if abs(v) < 2**53 else str(v)),  # a JSON number (float64 in Go)
        value.map(str),
        value.filter(lambda v: v >= 0).map(hex),
        value.filter(lambda v: v >= 0).map(lambda v: hex(v).upper().replace("0X", "0x")),
        st.just(2.0),
    )
    if not broken:
        return valid
    return valid | st.sampled_from(["", "0x", "1.5", "-0x1", "abc", 1.5, None, True, high + 1, str(low - 1)])


def _primitive_value(type_name: str, broken: bool) -> st.SearchStrategy[Any]:
    valid: st.SearchStrategy[Any]
    if type_name == "address":
        raw = st.binary(min_size=20, max_size=20).map(lambda b: b.hex())
        valid = st.one_of(raw.map(lambda h: "0x" + h), raw.map(lambda h: "0X" + h.upper()), raw)
        invalid: list[Any] = ["0x1234", "", None, 5, "0x" + "zz" * 20]
    elif type_name == "bool":
        valid, invalid = st.booleans(), ["true", 1, None]
    elif type_name == "string":
        valid, invalid = TEXT, [5, None, ["a"]]
    elif type_name == "bytes":
        valid, invalid = st.binary(max_size=40).map(lambda b: "0x" + b.hex()), ["0xabc", "ab", 7]
    elif type_name.startswith("bytes"):
        size = int(type_name[5:])
        valid = st.binary(min_size=size, max_size=size).map(lambda b: "0x" + b.hex())
        invalid = ["0x", "0x00" * (size + 1), None]
    else:
        return _integer(type_name, broken)
    return valid | st.sampled_from(invalid) if broken else valid


@st.composite
def typed_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Two documents in three follow the rules (so signatures get compared); the third may break
    any of them."""
    broken = draw(st.integers(0, 2)) == 0
    struct_names = draw(st.lists(st.sampled_from(["Mail", "Person", "Wallet", "Group", "cCell", "Action"]),
                                 min_size=1, max_size=4, unique=True))  # fmt: skip
    types: dict[str, list[dict[str, str]]] = {}
    for index, name in enumerate(struct_names):
        later = struct_names[index + 1 :]  # references point forward: no cycles unless broken on purpose
        fields = []
        for position in range(draw(st.integers(0, 4))):
            base = draw(
                st.one_of(st.sampled_from(PRIMITIVES), st.sampled_from(later) if later else st.nothing())
            )
            if broken and draw(st.integers(0, 4)) == 0:
                base = draw(st.sampled_from([*ODD_TYPES, name]))
            suffix = draw(st.sampled_from(["[]", "[2]", "[][]", *[""] * 12]))
            fields.append({"name": f"f{position}", "type": base + suffix})
        types[name] = fields
    domain_fields = draw(st.lists(st.sampled_from(["name", "version", "chainId", "verifyingContract", "salt"]),
                                  unique=True, min_size=0 if broken else 1, max_size=5))  # fmt: skip
    domain_types = {"name": "string", "version": "string", "chainId": "uint256", "verifyingContract": "address",
                    "salt": "bytes32"}  # fmt: skip
    types["EIP712Domain"] = [{"name": f, "type": domain_types[f]} for f in domain_fields]
    domain: dict[str, Any] = {}
    for field in domain_fields:
        domain[field] = draw(_domain_value(field))
    primary = draw(st.sampled_from(struct_names))
    message = draw(_struct_value(types, primary, 0, broken))
    return {"types": types, "primaryType": primary, "domain": domain, "message": message}


def _domain_value(field: str) -> st.SearchStrategy[Any]:
    if field == "chainId":
        return st.one_of(st.integers(0, 2**40), st.integers(0, 2**40).map(hex), st.just("5"))
    if field == "verifyingContract":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if field == "salt":
        return st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
    return TEXT


Types = dict[str, list[dict[str, str]]]


@st.composite
def _struct_value(draw: st.DrawFn, types: Types, name: str, depth: int, broken: bool) -> Any:
    if broken and (depth > 3 or draw(st.integers(0, 10)) == 0):
        return draw(st.sampled_from([None, "x", 5, []]))
    out: dict[str, Any] = {}
    for field in types.get(name, []):
        if broken and draw(st.integers(0, 8)) == 0:
            continue  # a missing member
        out[field["name"]] = draw(_value(types, field["type"], depth + 1, broken))
    if broken and draw(st.integers(0, 8)) == 0:
        out["extra"] = 1
    return out


@st.composite
def _value(draw: st.DrawFn, types: Types, type_name: str, depth: int, broken: bool) -> Any:
    if type_name.endswith("]"):
        inner = type_name[: type_name.rindex("[")]
        size = type_name[type_name.rindex("[") + 1 : -1]
        length = (
            int(size)
            if size.isdigit() and (not broken or draw(st.integers(0, 5)))
            else draw(st.integers(0, 3))
        )
        return [draw(_value(types, inner, depth + 1, broken)) for _ in range(length)]
    if type_name in types:
        return draw(_struct_value(types, type_name, depth, broken))
    if type_name in PRIMITIVES:
        return draw(_primitive_value(type_name, broken))
    return draw(st.sampled_from([None, "0x00", 1]))
