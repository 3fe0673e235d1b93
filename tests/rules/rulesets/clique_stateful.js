// Clique sealer that never signs the same height twice: the last signed block number is kept in
// storage and only a strictly higher header is approved.
function ApproveSignData(req) {
    if (req.content_type !== "application/x-clique-header") return "Reject";
    for (var i = 0; i < req.messages.length; i++) {
        var m = req.messages[i];
        if (m.name !== "Clique header" || m.type !== "clique") continue;
        // The value reads "clique header <number> [<hash>]".
        var number = parseInt(m.value.split(" ")[2], 10);
        var latest = parseInt(storage.get("lastblock") || "0", 10);
        console.log("header", number, "latest", latest);
        if (number > latest) {
            storage.put("lastblock", number);
            return "Approve";
        }
    }
    return "Reject";
}
