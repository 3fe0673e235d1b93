// Clique sealer: approve account listing and clique header signing, nothing else.
function ApproveListing() {
    return "Approve";
}

function ApproveSignData(req) {
    if (req.content_type !== "application/x-clique-header") return "Reject";
    for (var i = 0; i < req.messages.length; i++) {
        var m = req.messages[i];
        if (m.name === "Clique header" && m.type === "clique") return "Approve";
    }
    return "Reject";
}
