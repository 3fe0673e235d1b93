// At most 1 ether leaves per rolling week. Approved transactions are recorded by OnApprovedTx;
// ApproveTx sums what is still inside the window. Anything over the limit goes to the human.
var WINDOW_MS = 7 * 24 * 3600 * 1000;
var LIMIT = new BigNumber("1e18");

function wei(hex) {
    return hex.slice(0, 2) === "0x" ? new BigNumber(hex.slice(2), 16) : new BigNumber(hex);
}

function recent() {
    var stored = storage.get("txs");
    var since = new Date().getTime() - WINDOW_MS;
    return (stored ? JSON.parse(stored) : []).filter(function (tx) { return tx.tstamp > since; });
}

function ApproveTx(req) {
    var spent = recent().reduce(function (sum, tx) { return sum.plus(tx.value); }, new BigNumber(0));
    var value = wei(req.transaction.value);
    console.log("spent", spent.toString(10), "requested", value.toString(10));
    return spent.plus(value).lte(LIMIT) ? "Approve" : "Over limit";
}

function OnApprovedTx(resp) {
    var txs = recent();
    // A BigNumber serialises through toJSON as its decimal string.
    txs.push({ tstamp: new Date().getTime(), value: wei(resp.tx.value) });
    storage.put("txs", JSON.stringify(txs));
}
