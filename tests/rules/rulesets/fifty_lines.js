// A 50-line ruleset in the style of clef's examples: allow-listed recipients, a value cap,
// a weekly budget kept in storage, and listing/sign-data policies.
var ALLOWED = ["0x8a8eafb1cf62bfbeb1741769dae1a9dd47996192", "0x0000000000000000000000000000000000001337"];
var WEEKLY_LIMIT = new BigNumber("1000000000000000000");   // 1 ether in wei
var WEEK_MS = 7 * 24 * 3600 * 1000;

function big(hex) { return new BigNumber(hex ? hex.slice(2) : "0", 16); }

function spentThisWeek(now) {
    var raw = storage.get("txs");
    var txs = raw ? JSON.parse(raw) : [];
    var total = new BigNumber(0);
    for (var i = 0; i < txs.length; i++) {
        if (txs[i].tstamp > now - WEEK_MS) total = total.plus(txs[i].value);
    }
    return total;
}

function ApproveListing(req) {
    if (req.meta.scheme === "ipc") return "Approve";
    return "Reject";
}

function ApproveSignData(req) {
    if (req.content_type === "application/x-clique-header") return "Approve";
    if (req.content_type === "text/plain") return "Reject";
    return "Next";
}

function ApproveTx(req) {
    var tx = req.transaction;
    if (!tx.to) return "Reject";
    if (ALLOWED.indexOf(tx.to.toLowerCase()) < 0) return "Next";
    var value = big(tx.value);
    if (value.gt(WEEKLY_LIMIT)) return "Reject";
    if (spentThisWeek(new Date().getTime()).plus(value).gt(WEEKLY_LIMIT)) return "Reject";
    return "Approve";
}

function OnApprovedTx(resp) {
    var raw = storage.get("txs");
    var txs = raw ? JSON.parse(raw) : [];
    txs.push({ tstamp: new Date().getTime(), value: big(resp.tx.value).toString(10) });
    storage.put("txs", JSON.stringify(txs));
    console.log("approved tx", resp.tx.hash);
}

function OnSignerStartup(info) {
    console.log("rules active, http:", info.info.extapi_http);
}
