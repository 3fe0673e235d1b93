/*
 * Sealward BigNumber: the bignumber.js 2.x API (as shipped in 2.0.3, the version clef bundles)
 * for rule files, written on QuickJS BigInt.
 *
 * A finite value is s * d * 10^x with d a BigInt without trailing zeros, so every exact operation
 * (plus, minus, times, comparisons) is one BigInt operation and nothing is limited to 2^53.
 * The public fields s (sign) and e (exponent of the leading digit) and the c getter (base 1e14
 * limbs) read like 2.0.3's. Where 2.0.3 rounds in a particular way (digit-wise in base
 * conversions, limb truncation in pow, the sign of zero results), this file reproduces it, because
 * rules compare results as strings and a one-digit difference changes a decision.
 */
(function (global) {
    'use strict';

    var ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$_',
        MAX = 1e9,
        MAX_SAFE_INTEGER = 0x1fffffffffffff,
        LOG_BASE = 14,
        TOO_MANY_DIGITS = 'number type has more than 15 significant digits',
        NOT_BOOL = ' not a boolean or binary digit',
        ROUNDING = 'rounding mode',
        isNumeric = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i,
        POW10 = [];

    function pow10(n) {
        if (n < 64) return POW10[n] || (POW10[n] = 10n ** BigInt(n));
        return 10n ** BigInt(n);
    }

    function truncate(n) {
        n = parseFloat(n);
        return n < 0 ? Math.ceil(n) : Math.floor(n);
    }

    function isArray(o) {
        return Object.prototype.toString.call(o) == '[object Array]';
    }

    function expNotation(str, e) {
        return (str.length > 1 ? str.charAt(0) + '.' + str.slice(1) : str) + (e < 0 ? 'e' : 'e+') + e;
    }

    function fixedNotation(str, e) {
        var len = str.length;
        if (e < 0) return '0.' + '0'.repeat(-e - 1) + str;
        if (e + 1 > len) return str + '0'.repeat(e + 1 - len);
        if (e + 1 < len) return str.slice(0, e + 1) + '.' + str.slice(e + 1);
        return str;
    }

    // Digits of a non-negative BigInt in base b, using 2.0.3's alphabet above base 36.
    function toDigits(q, b) {
        if (b <= 36) return q.toString(b);
        var B = BigInt(b), out = '';
        do {
            out = ALPHABET.charAt(Number(q % B)) + out;
            q /= B;
        } while (q > 0n);
        return out;
    }

    function fromDigits(str, b) {
        if (b == 16 || b == 8 || b == 2) return BigInt((b == 16 ? '0x' : b == 8 ? '0o' : '0b') + str);
        var B = BigInt(b), acc = 0n, i;
        for (i = 0; i < str.length; i++) acc = acc * B + BigInt(ALPHABET.indexOf(str.charAt(i)));
        return acc;
    }

    // Whether to add one unit to q (non-negative) when the next digit in base b is i and sticky
    // says that non-zero digits follow it. Half modes compare the single digit with b/2 as 2.0.3
    // does, which is exact for even bases (all decimal rounding) and digit-wise for odd ones.
    function roundsUp(q, i, sticky, rm, s, b) {
        if (rm < 4) return (i !== 0 || sticky) && (rm == 0 || rm == (s < 0 ? 3 : 2));
        var k = b / 2;
        return i > k || i == k && (rm == 4 || sticky || rm == 6 && (q % BigInt(b)) % 2n == 1n ||
            rm == (s < 0 ? 8 : 7));
    }

    // round(N / D) to an integer, looking at one more digit in base b.
    function roundRatio(N, D, b, rm, s) {
        var B = BigInt(b), T = N * B, q = T / D, sticky = T % D !== 0n, i = Number(q % B);
        q /= B;
        return roundsUp(q, i, sticky, rm, s, b) ? q + 1n : q;
    }

    function isqrt(n) {
        if (n < 2n) return n;
        var x = 1n << BigInt(Math.ceil(n.toString(16).length * 4 / 2) + 1), y;
        for (;;) {
            y = (x + n / x) >> 1n;
            if (y >= x) return x;
            x = y;
        }
    }

    function another(configObj) {
        var DECIMAL_PLACES = 20,
            ROUNDING_MODE = 4,
            TO_EXP_NEG = -7,
            TO_EXP_POS = 21,
            MIN_EXP = -1e7,
            MAX_EXP = 1e7,
            ERRORS = true,
            CRYPTO = false,
            MODULO_MODE = 1,
            POW_PRECISION = 100,
            FORMAT = {
                decimalSeparator: '.',
                groupSeparator: ',',
                groupSize: 3,
                secondaryGroupSize: 0,
                fractionGroupSeparator: '\xA0',
                fractionGroupSize: 0
            };

        function BigNumber(n, b) {
            if (!(this instanceof BigNumber)) {
                if (ERRORS) raise('BigNumber', 'constructor call without new', n);
                return new BigNumber(n, b);
            }
            return parse(n, b, 'new BigNumber');
        }

        var P = BigNumber.prototype, ONE;

        function raise(caller, msg, val) {
            var error = new Error(caller + '() ' + msg + ': ' + val);
            error.name = 'BigNumber Error';
            throw error;
        }

        function validInt(n, min, max, caller, name) {
            if (!ERRORS) return (n = truncate(n)) >= min && n <= max;
            if (n < min || n > max || n != truncate(n)) {
                raise(caller, (name || 'decimal places') +
                    (n < min || n > max ? ' out of range' : ' not an integer'), n);
            }
            return true;
        }

        // A value from parts: strips trailing zeros and applies RANGE (overflow keeps the sign).
        function make(s, d, x) {
            var n = Object.create(P), str, len, z;
            n.s = s;
            n._x = 0;
            if (d === null || d === 0n) {
                n._d = d;
                n.e = d === null ? null : 0;
                return n;
            }
            str = d.toString();
            len = z = str.length;
            while (str.charCodeAt(z - 1) === 48) z--;
            if (z < len) {
                d /= pow10(len - z);
                x += len - z;
            }
            n.e = x + z - 1;
            if (n.e > MAX_EXP) {
                n._d = n.e = null;
            } else if (n.e < MIN_EXP) {
                n._d = 0n;
                n.e = 0;
            } else {
                n._d = d;
                n._x = x;
            }
            return n;
        }

        function copy(n, s) {
            var m = Object.create(P);
            m.s = s === undefined ? n.s : s;
            m.e = n.e;
            m._d = n._d;
            m._x = n._x;
            return m;
        }

        function coeff(n) {
            return n._d.toString();
        }

        function parse(n, b, caller) {
            var str, num, s;
            if (b == null || !validInt(b, 2, 64, caller, 'base')) {
                if (n instanceof BigNumber) return copy(n);
                num = typeof n == 'number';
                if (num && n * 0 == 0) {
                    s = 1 / n < 0 ? -1 : 1;
                    if (n === ~~n) return make(s, BigInt(s * n), 0);
                    str = String(s * n);
                } else {
                    str = n + '';
                    if (!isNumeric.test(str)) return parseOther(str, num, b, caller);
                    s = str.charCodeAt(0) === 45 ? (str = str.slice(1), -1) : 1;
                }
                return parseDecimal(s, str, num ? n : null, caller);
            }
            b = b | 0;
            str = n + '';
            if (b == 10) {
                n = parse(n instanceof BigNumber ? n : str, null, caller);
                return roundSd(n, DECIMAL_PLACES + n.e + 1, ROUNDING_MODE);
            }
            num = typeof n == 'number';
            var chars = '[' + ALPHABET.slice(0, b) + ']+';
            if (num && n * 0 != 0 ||
                !new RegExp('^-?' + chars + '(?:\\.' + chars + ')?$', b < 37 ? 'i' : '').test(str)) {
                return parseOther(str, num, b, caller);
            }
            if (num ? 1 / n < 0 : str.charCodeAt(0) === 45) {
                str = str.slice(1);
                s = -1;
            } else {
                s = 1;
            }
            if (num && ERRORS && str.replace(/^0\.0*|\./, '').length > 15) raise(caller, TOO_MANY_DIGITS, n);
            return parseBase(s, str, b);
        }

        function parseDecimal(s, str, numberValue, caller) {
            var e = str.indexOf('.'), i, len;
            if (e > -1) str = str.replace('.', '');
            if ((i = str.search(/e/i)) > 0) {
                if (e < 0) e = i;
                e += +str.slice(i + 1);
                str = str.substring(0, i);
            } else if (e < 0) {
                e = str.length;
            }
            for (i = 0; str.charCodeAt(i) === 48; i++);
            for (len = str.length; str.charCodeAt(--len) === 48;);
            str = str.slice(i, len + 1);
            if (!str) return make(s, 0n, 0);
            if (numberValue !== null && ERRORS && str.length > 15) raise(caller, TOO_MANY_DIGITS, numberValue);
            e = e - i - 1;
            if (e > MAX_EXP) return make(s, null, 0);
            if (e < MIN_EXP) return make(s, 0n, 0);
            return make(s, BigInt(str), e - str.length + 1);
        }

        // Digits in base b with an optional fraction: exact for integers, else rounded to
        // DECIMAL_PLACES with ROUNDING_MODE (the sign matters for the directed modes).
        function parseBase(s, str, b) {
            if (b < 37) str = str.toLowerCase();
            var dot = str.indexOf('.'), f = 0, N;
            if (dot >= 0) {
                f = str.length - dot - 1;
                str = str.slice(0, dot) + str.slice(dot + 1);
            }
            N = str ? fromDigits(str, b) : 0n;
            if (N === 0n || f === 0) return make(s, N, 0);
            N = roundRatio(N * pow10(DECIMAL_PLACES), BigInt(b) ** BigInt(f), 10, ROUNDING_MODE, s);
            return make(s, N, -DECIMAL_PLACES);
        }

        // Infinity, NaN, 0x/0b/0o prefixes, surrounding blanks and a leading '+'.
        function parseOther(str, num, b, caller) {
            var base, s = num ? str : str.replace(/^\s*\+(?=[\w.])|^\s+|\s+$/g, '');
            if (/^-?(Infinity|NaN)$/.test(s)) return make(isNaN(s) ? null : s < 0 ? -1 : 1, null, 0);
            if (!num) {
                s = s.replace(/^(-?)0([xbo])(?=\w[\w.]*$)/i, function (m, sign, p) {
                    base = (p = p.toLowerCase()) == 'x' ? 16 : p == 'b' ? 2 : 8;
                    return !b || b == base ? sign : m;
                });
                if (b) {
                    base = b;
                    s = s.replace(/^([^.]+)\.$/, '$1').replace(/^\.([^.]+)$/, '0.$1');
                }
                if (str != s) return parse(s, base, caller);
            }
            if (ERRORS) raise(caller, 'not a' + (b ? ' base ' + b : '') + ' number', str);
            return make(null, null, 0);
        }

        // Round to sd significant digits; sticky says non-zero digits follow the coefficient.
        function roundSd(n, sd, rm, sticky) {
            if (n._d === null || n._d === 0n) return n;
            var tx = n.e - sd + 1, q, drop, unit, rem, i;
            if (tx <= n._x) {
                if (!sticky || !roundsUp(0n, 0, true, rm, n.s, 10)) return n;
                return make(n.s, n._d * pow10(n._x - tx) + 1n, tx);
            }
            drop = tx - n._x;
            unit = pow10(drop - 1);
            q = n._d / (unit * 10n);
            rem = n._d % (unit * 10n);
            i = Number(rem / unit);
            if (roundsUp(q, i, sticky || rem % unit !== 0n, rm, n.s, 10)) q += 1n;
            return make(n.s, q, tx);
        }

        function compare(x, y) {
            var i = x.s, j = y.s, a, b, m;
            if (!i || !j) return null;
            a = x._d === 0n;
            b = y._d === 0n;
            if (a || b) return a ? b ? 0 : -j : i;
            if (i != j) return i;
            if (x._d === null || y._d === null) {
                return x._d === y._d ? 0 : (x._d === null) !== (i < 0) ? 1 : -1;
            }
            if (x.e != y.e) return (x.e > y.e) !== (i < 0) ? 1 : -1;
            m = Math.min(x._x, y._x);
            a = x._d * pow10(x._x - m);
            b = y._d * pow10(y._x - m);
            return a == b ? 0 : (a > b) !== (i < 0) ? 1 : -1;
        }

        // Same-sign addition and subtraction, with 2.0.3's results for zeros and infinities.
        function add(x, y) {
            var a = x.s, m;
            if (x._d === null || y._d === null) return make(a, null, 0);
            if (x._d === 0n || y._d === 0n) return y._d !== 0n ? y : x._d !== 0n ? copy(x) : make(a, 0n, 0);
            m = Math.min(x._x, y._x);
            return make(a, x._d * pow10(x._x - m) + y._d * pow10(y._x - m), m);
        }

        function sub(x, y) {
            var a = x.s, m, diff;
            if (x._d === null || y._d === null) {
                return x._d !== null ? copy(y, -y.s) : y._d !== null ? copy(x) : make(null, null, 0);
            }
            if (x._d === 0n || y._d === 0n) {
                return y._d !== 0n ? copy(y, -y.s) : x._d !== 0n ? copy(x) : make(ROUNDING_MODE == 3 ? -1 : 1, 0n, 0);
            }
            m = Math.min(x._x, y._x);
            diff = x._d * pow10(x._x - m) - y._d * pow10(y._x - m);
            if (diff === 0n) return make(ROUNDING_MODE == 3 ? -1 : 1, 0n, 0);
            return diff > 0n ? make(a, diff, m) : make(-a, -diff, m);
        }

        function plus(x, y) {
            if (!x.s || !y.s) return make(null, null, 0);
            return x.s != y.s ? sub(x, copy(y, -y.s)) : add(x, y);
        }

        function minus(x, y) {
            if (!x.s || !y.s) return make(null, null, 0);
            return x.s != y.s ? add(x, copy(y, -y.s)) : sub(x, y);
        }

        function times(x, y) {
            var s = x.s * y.s;
            if (!x.s || !y.s || x._d === 0n && y._d === null || y._d === 0n && x._d === null) {
                return make(null, null, 0);
            }
            if (x._d === null || y._d === null) return make(s, null, 0);
            if (x._d === 0n || y._d === 0n) return make(s, 0n, 0);
            return make(s, x._d * y._d, x._x + y._x);
        }

        // x / y rounded to dp decimal places (dp may be negative) with rounding mode rm.
        function divide(x, y, dp, rm) {
            var s = x.s == y.s ? 1 : -1, t, N, D, qe;
            if (x._d === null || x._d === 0n || y._d === null || y._d === 0n) {
                if (!x.s || !y.s || (x._d !== null ? x._d === y._d : y._d === null)) return make(null, null, 0);
                return make(s, x._d === 0n || y._d === null ? 0n : null, 0);
            }
            qe = x.e - y.e;
            if (qe - 1 > MAX_EXP) return make(s, null, 0);
            if (qe + 1 < -dp - 1) return make(s, roundsUp(0n, 0, true, rm, s, 10) ? 1n : 0n, -dp);
            t = x._x - y._x + dp;
            N = t >= 0 ? x._d * pow10(t) : x._d;
            D = t >= 0 ? y._d : y._d * pow10(-t);
            return make(s, roundRatio(N, D, 10, rm, s), -dp);
        }

        // Base conversion for toString(b): exact for integers, else DECIMAL_PLACES digits.
        function toBase(n, b) {
            var N, D, q, str, dp = DECIMAL_PLACES;
            if (n._d === 0n) return '0';
            if (n._x >= 0) return toDigits(n._d * pow10(n._x), b);
            N = n._d * BigInt(b) ** BigInt(dp);
            D = pow10(-n._x);
            q = roundRatio(N, D, b, ROUNDING_MODE, n.s);
            if (q === 0n) return '0';
            str = toDigits(q, b);
            if (!dp) return str;
            if (str.length <= dp) str = '0'.repeat(dp - str.length + 1) + str;
            var frac = str.slice(str.length - dp).replace(/0+$/, '');
            return str.slice(0, str.length - dp) + (frac ? '.' + frac : '');
        }

        // toExponential, toFixed, toFormat and toPrecision: i is the significant digit to round at.
        function format(n, i, rm, caller) {
            var nonZero, ne, e, str, len;
            rm = rm != null && validInt(rm, 0, 8, caller, ROUNDING) ? rm | 0 : ROUNDING_MODE;
            if (n._d === null) return n.toString();
            nonZero = n._d !== 0n;
            ne = n.e;
            if (i == null) {
                str = coeff(n);
                str = caller == 'toExponential' || caller == 'toPrecision' && ne <= TO_EXP_NEG
                    ? expNotation(str, ne) : fixedNotation(str, ne);
            } else {
                n = roundSd(n, i, rm);
                e = n.e;
                str = coeff(n);
                len = str.length;
                if (caller == 'toExponential' || caller == 'toPrecision' && (i <= e || e <= TO_EXP_NEG)) {
                    if (len < i) str += '0'.repeat(i - len);
                    str = expNotation(str, e);
                } else {
                    i -= ne;
                    str = fixedNotation(str, e);
                    if (e + 1 > len) {
                        if (--i > 0) str += '.' + '0'.repeat(i);
                    } else {
                        i += e - len;
                        if (i > 0) str += (e + 1 == len ? '.' : '') + '0'.repeat(i);
                    }
                }
            }
            return n.s < 0 && nonZero ? '-' + str : str;
        }

        function maxOrMin(args, method) {
            var m, n, i;
            if (isArray(args[0])) args = args[0];
            m = parse(args[0], null, 'new BigNumber');
            for (i = 1; i < args.length; i++) {
                n = parse(args[i], null, 'new BigNumber');
                if (!n.s) return n;
                if (method.call(m, n)) m = n;
            }
            return m;
        }

        // Integer pow with 2.0.3's POW_PRECISION semantics: after each product the coefficient is
        // cut to k limbs of 14 digits (aligned on the exponent), then the result is rounded.
        function power(x, n) {
            var k = POW_PRECISION ? Math.ceil(POW_PRECISION / LOG_BASE + 2) : 0,
                i = Math.floor(n < 0 ? -n : +n), y = ONE, cut = false, yCut;

            function limit(v) {
                if (!k || v._d === null || v._d === 0n) return v;
                var top = Math.floor(v.e / LOG_BASE), low = (top - k + 1) * LOG_BASE;
                if (top - Math.floor(v._x / LOG_BASE) + 1 <= k) return v;
                cut = true;
                return make(v.s, v._d / pow10(low - v._x), low);
            }

            for (;;) {
                if (i % 2) {
                    cut = false;
                    y = limit(times(y, x));
                    if (y._d === null) break;
                }
                i = Math.floor(i / 2);
                if (!i) break;
                // Only a cut of y in its last step matters for the final rounding (2.0.3 then
                // still holds trailing zero limbs, which its round() counts as more digits).
                yCut = cut;
                x = limit(times(x, x));
                cut = yCut;
            }
            if (n < 0) {
                y = divide(ONE, y, DECIMAL_PLACES, ROUNDING_MODE);
                cut = false;
            }
            return k ? roundSd(y, POW_PRECISION, ROUNDING_MODE, cut) : y;
        }

        BigNumber.another = another;
        BigNumber.ROUND_UP = 0;
        BigNumber.ROUND_DOWN = 1;
        BigNumber.ROUND_CEIL = 2;
        BigNumber.ROUND_FLOOR = 3;
        BigNumber.ROUND_HALF_UP = 4;
        BigNumber.ROUND_HALF_DOWN = 5;
        BigNumber.ROUND_HALF_EVEN = 6;
        BigNumber.ROUND_HALF_CEIL = 7;
        BigNumber.ROUND_HALF_FLOOR = 8;
        BigNumber.EUCLID = 9;

        BigNumber.config = function () {
            var v, p, i = 0, r = {}, a = arguments, o = a[0],
                has = o && typeof o == 'object'
                    ? function () { if (o.hasOwnProperty(p)) return (v = o[p]) != null; }
                    : function () { if (a.length > i) return (v = a[i++]) != null; };

            if (has(p = 'DECIMAL_PLACES') && validInt(v, 0, MAX, 'config', p)) DECIMAL_PLACES = v | 0;
            r[p] = DECIMAL_PLACES;
            if (has(p = 'ROUNDING_MODE') && validInt(v, 0, 8, 'config', p)) ROUNDING_MODE = v | 0;
            r[p] = ROUNDING_MODE;
            if (has(p = 'EXPONENTIAL_AT')) {
                if (isArray(v)) {
                    if (validInt(v[0], -MAX, 0, 'config', p) && validInt(v[1], 0, MAX, 'config', p)) {
                        TO_EXP_NEG = v[0] | 0;
                        TO_EXP_POS = v[1] | 0;
                    }
                } else if (validInt(v, -MAX, MAX, 'config', p)) {
                    TO_EXP_NEG = -(TO_EXP_POS = (v < 0 ? -v : v) | 0);
                }
            }
            r[p] = [TO_EXP_NEG, TO_EXP_POS];
            if (has(p = 'RANGE')) {
                if (isArray(v)) {
                    if (validInt(v[0], -MAX, -1, 'config', p) && validInt(v[1], 1, MAX, 'config', p)) {
                        MIN_EXP = v[0] | 0;
                        MAX_EXP = v[1] | 0;
                    }
                } else if (validInt(v, -MAX, MAX, 'config', p)) {
                    if (v | 0) MIN_EXP = -(MAX_EXP = (v < 0 ? -v : v) | 0);
                    else if (ERRORS) raise('config', p + ' cannot be zero', v);
                }
            }
            r[p] = [MIN_EXP, MAX_EXP];
            if (has(p = 'ERRORS')) {
                if (v === !!v || v === 1 || v === 0) ERRORS = !!v;
                else if (ERRORS) raise('config', p + NOT_BOOL, v);
            }
            r[p] = ERRORS;
            // The sandbox has no crypto source, exactly like 2.0.3 loaded without one.
            if (has(p = 'CRYPTO')) {
                if (v === !!v || v === 1 || v === 0) {
                    CRYPTO = false;
                    if (v && ERRORS) raise('config', 'crypto unavailable', undefined);
                } else if (ERRORS) {
                    raise('config', p + NOT_BOOL, v);
                }
            }
            r[p] = CRYPTO;
            if (has(p = 'MODULO_MODE') && validInt(v, 0, 9, 'config', p)) MODULO_MODE = v | 0;
            r[p] = MODULO_MODE;
            if (has(p = 'POW_PRECISION') && validInt(v, 0, MAX, 'config', p)) POW_PRECISION = v | 0;
            r[p] = POW_PRECISION;
            if (has(p = 'FORMAT')) {
                if (typeof v == 'object') FORMAT = v;
                else if (ERRORS) raise('config', p + ' not an object', v);
            }
            r[p] = FORMAT;
            return r;
        };

        BigNumber.max = function () { return maxOrMin(arguments, P.lt); };
        BigNumber.min = function () { return maxOrMin(arguments, P.gt); };

        // Math.random digits; rules must not rely on randomness for decisions anyway.
        BigNumber.random = function (dp) {
            var digits = '';
            dp = dp == null || !validInt(dp, 0, MAX, 'random') ? DECIMAL_PLACES : dp | 0;
            while (digits.length < dp) digits += String(Math.floor(Math.random() * 1e7) + 1e7).slice(1);
            return parse('0.' + digits.slice(0, dp) + '0', null, 'random');
        };

        Object.defineProperty(P, 'c', {
            get: function () {
                if (this._d === null) return null;
                if (this._d === 0n) return [0];
                var str = coeff(this), len = str.length, c = [], i = (this.e + 1) % LOG_BASE;
                if (this.e < 0) i += LOG_BASE;
                if (i < len) {
                    if (i) c.push(+str.slice(0, i));
                    for (len -= LOG_BASE; i < len;) c.push(+str.slice(i, i += LOG_BASE));
                    str = str.slice(i);
                    i = LOG_BASE - str.length;
                } else {
                    i -= len;
                }
                c.push(+(str + '0'.repeat(i)));
                return c;
            }
        });

        P.absoluteValue = P.abs = function () { return this.s < 0 ? copy(this, 1) : copy(this); };
        P.ceil = function () { return roundSd(copy(this), this.e + 1, 2); };
        P.floor = function () { return roundSd(copy(this), this.e + 1, 3); };
        P.truncated = P.trunc = function () { return roundSd(copy(this), this.e + 1, 1); };
        P.negated = P.neg = function () { return copy(this, -this.s || null); };

        P.comparedTo = P.cmp = function (y, b) { return compare(this, parse(y, b, 'cmp')); };
        P.equals = P.eq = function (y, b) { return compare(this, parse(y, b, 'eq')) === 0; };
        P.greaterThan = P.gt = function (y, b) { return compare(this, parse(y, b, 'gt')) > 0; };
        P.greaterThanOrEqualTo = P.gte = function (y, b) {
            return (b = compare(this, parse(y, b, 'gte'))) === 1 || b === 0;
        };
        P.lessThan = P.lt = function (y, b) { return compare(this, parse(y, b, 'lt')) < 0; };
        P.lessThanOrEqualTo = P.lte = function (y, b) {
            return (b = compare(this, parse(y, b, 'lte'))) === -1 || b === 0;
        };

        P.decimalPlaces = P.dp = function () {
            if (this._d === null) return null;
            return this._d === 0n || this._x >= 0 ? 0 : -this._x;
        };

        P.plus = P.add = function (y, b) { return plus(this, parse(y, b, 'plus')); };
        P.minus = P.sub = function (y, b) { return minus(this, parse(y, b, 'minus')); };
        P.times = P.mul = function (y, b) { return times(this, parse(y, b, 'times')); };
        P.dividedBy = P.div = function (y, b) {
            return divide(this, parse(y, b, 'div'), DECIMAL_PLACES, ROUNDING_MODE);
        };
        P.dividedToIntegerBy = P.divToInt = function (y, b) {
            return divide(this, parse(y, b, 'divToInt'), 0, 1);
        };

        P.modulo = P.mod = function (y, b) {
            var x = this, q;
            y = parse(y, b, 'mod');
            if (x._d === null || !y.s || y._d === 0n) return make(null, null, 0);
            if (y._d === null || x._d === 0n) return copy(x);
            if (MODULO_MODE == 9) {
                q = divide(x, copy(y, 1), 0, 3);
                q = copy(q, q.s * y.s);
            } else {
                q = divide(x, y, 0, MODULO_MODE);
            }
            return minus(x, times(q, y));
        };

        P.isFinite = function () { return this._d !== null; };
        P.isInteger = P.isInt = function () { return this._d !== null && this._x >= 0; };
        P.isNaN = function () { return !this.s; };
        P.isNegative = P.isNeg = function () { return this.s < 0; };
        P.isZero = function () { return this._d === 0n; };

        P.precision = P.sd = function (z) {
            var n;
            if (z != null && z !== !!z && z !== 1 && z !== 0) {
                if (ERRORS) raise('precision', 'argument' + NOT_BOOL, z);
                if (z != !!z) z = null;
            }
            if (this._d === null) return null;
            n = this._d === 0n ? 1 : coeff(this).length;
            if (z && this.e + 1 > n) n = this.e + 1;
            return n;
        };

        P.round = function (dp, rm) {
            if (dp == null || validInt(dp, 0, MAX, 'round')) {
                return roundSd(copy(this), ~~dp + this.e + 1,
                    rm == null || !validInt(rm, 0, 8, 'round', ROUNDING) ? ROUNDING_MODE : rm | 0);
            }
            return copy(this);
        };

        P.shift = function (k) {
            var n = this;
            if (validInt(k, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER, 'shift', 'argument')) {
                return times(n, parse('1e' + truncate(k), null, 'times'));
            }
            return parse(n._d !== null && n._d !== 0n && (k < -MAX_SAFE_INTEGER || k > MAX_SAFE_INTEGER)
                ? n.s * (k < 0 ? 0 : 1 / 0) : n, null, 'new BigNumber');
        };

        // Correctly rounded to DECIMAL_PLACES: one extra digit from an integer square root.
        P.squareRoot = P.sqrt = function () {
            var x = this, s = x.s, dp = DECIMAL_PLACES, p, M, A, exact;
            if (s !== 1 || x._d === null || x._d === 0n) {
                return !s || s < 0 && (x._d === null || x._d !== 0n) ? make(null, null, 0)
                    : x._d !== null ? copy(x) : make(1, null, 0);
            }
            p = x._x + 2 * dp + 2;
            M = p >= 0 ? x._d * pow10(p) : x._d / pow10(-p);
            A = isqrt(M);
            exact = A * A === M && (p >= 0 || x._d % pow10(-p) === 0n);
            return make(1, roundsUp(A / 10n, Number(A % 10n), !exact, ROUNDING_MODE, 1, 10)
                ? A / 10n + 1n : A / 10n, -dp);
        };

        P.toDigits = function (sd, rm) {
            sd = sd == null || !validInt(sd, 1, MAX, 'toDigits', 'precision') ? null : sd | 0;
            rm = rm == null || !validInt(rm, 0, 8, 'toDigits', ROUNDING) ? ROUNDING_MODE : rm | 0;
            return sd ? roundSd(copy(this), sd, rm) : copy(this);
        };

        P.toExponential = function (dp, rm) {
            return format(this, dp != null && validInt(dp, 0, MAX, 'toExponential') ? ~~dp + 1 : null,
                rm, 'toExponential');
        };

        P.toFixed = function (dp, rm) {
            return format(this, dp != null && validInt(dp, 0, MAX, 'toFixed') ? ~~dp + this.e + 1 : null,
                rm, 'toFixed');
        };

        P.toPrecision = function (sd, rm) {
            return format(this, sd != null && validInt(sd, 1, MAX, 'toPrecision', 'precision') ? sd | 0 : null,
                rm, 'toPrecision');
        };

        P.toFormat = function (dp, rm) {
            var str = format(this, dp != null && validInt(dp, 0, MAX, 'toFormat') ? ~~dp + this.e + 1 : null,
                rm, 'toFormat');
            if (this._d === null) return str;
            var parts = str.split('.'), g1 = +FORMAT.groupSize, g2 = +FORMAT.secondaryGroupSize,
                sep = FORMAT.groupSeparator, intPart = parts[0], frac = parts[1], neg = this.s < 0,
                digits = neg ? intPart.slice(1) : intPart, len = digits.length, i;
            if (g2) {
                i = g1;
                g1 = g2;
                g2 = i;
                len -= i;
            }
            if (g1 > 0 && len > 0) {
                i = len % g1 || g1;
                intPart = digits.substr(0, i);
                for (; i < len; i += g1) intPart += sep + digits.substr(i, g1);
                if (g2 > 0) intPart += sep + digits.slice(i);
                if (neg) intPart = '-' + intPart;
            }
            if (!frac) return intPart;
            g2 = +FORMAT.fractionGroupSize;
            return intPart + FORMAT.decimalSeparator + (g2
                ? frac.replace(new RegExp('\\d{' + g2 + '}\\B', 'g'), '$&' + FORMAT.fractionGroupSeparator)
                : frac);
        };

        // Best rational approximation by continued fractions, built from the operations above so
        // that it agrees with 2.0.3 digit for digit.
        P.toFraction = function (md) {
            var x = this, k = ERRORS, n, d, e, exp, q, n0, n1, d0, d1, d2, arr;
            if (md != null) {
                ERRORS = false;
                n = parse(md, null, 'new BigNumber');
                ERRORS = k;
                if (!(k = n.isInt()) || n.lt(ONE)) {
                    if (ERRORS) raise('toFraction', 'max denominator ' + (k ? 'out of range' : 'not an integer'), md);
                    n = !k && n._d !== null ? roundSd(n, n.e + 1, 1) : n;
                    md = !k && n._d !== null && n.gte(ONE) ? n : null;
                }
            }
            if (x._d === null) return x.toString();
            // d = 10^e is the smallest denominator that holds x exactly.
            e = coeff(x).length - x.e - 1;
            d = make(1, 1n, e);
            md = !md || n.cmp(d) > 0 ? (e > 0 ? d : ONE) : n;
            exp = MAX_EXP;
            MAX_EXP = 1 / 0;
            n = make(1, x._d, 0);
            n0 = d1 = make(1, 0n, 0);
            n1 = d0 = ONE;
            for (;;) {
                q = divide(n, d, 0, 1);
                d2 = plus(d0, times(q, d1));
                if (compare(d2, md) == 1) break;
                d0 = d1;
                d1 = d2;
                d2 = n1;
                n1 = plus(n0, times(q, d2));
                n0 = d2;
                d2 = d;
                d = minus(n, times(q, d2));
                n = d2;
            }
            d2 = divide(minus(md, d0), d1, 0, 1);
            n0 = copy(plus(n0, times(d2, n1)), x.s);
            d0 = plus(d0, times(d2, d1));
            n1 = copy(n1, x.s);
            e *= 2;
            arr = compare(minus(divide(n1, d1, e, ROUNDING_MODE), x).abs(),
                minus(divide(n0, d0, e, ROUNDING_MODE), x).abs()) < 1
                ? [n1.toString(), d1.toString()] : [n0.toString(), d0.toString()];
            MAX_EXP = exp;
            return arr;
        };

        P.toNumber = function () {
            return +this || (this.s ? this.s * 0 : NaN);
        };

        P.toPower = P.pow = function (n) {
            var i = Math.floor(n < 0 ? -n : +n);
            if (!validInt(n, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER, 'pow', 'exponent') &&
                (!isFinite(n) || i > MAX_SAFE_INTEGER && (n /= 0) || parseFloat(n) != n && !(n = NaN))) {
                return parse(Math.pow(+this, n), null, 'new BigNumber');
            }
            return power(this, n);
        };

        P.toString = function (b) {
            var n = this, s = n.s, e = n.e, str;
            if (e === null) return s ? (s < 0 ? '-Infinity' : 'Infinity') : 'NaN';
            if (b == null || !validInt(b, 2, 64, 'toString', 'base')) {
                str = coeff(n);
                str = e <= TO_EXP_NEG || e >= TO_EXP_POS ? expNotation(str, e) : fixedNotation(str, e);
            } else {
                str = toBase(n, b | 0);
            }
            return s < 0 && n._d !== 0n ? '-' + str : str;
        };

        P.valueOf = P.toJSON = function () { return this.toString(); };

        ONE = make(1, 1n, 0);
        if (configObj != null) BigNumber.config(configObj);
        return BigNumber;
    }

    global.BigNumber = another();
})(this);
