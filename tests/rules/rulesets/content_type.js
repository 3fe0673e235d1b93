// Decide by content type: personal messages are refused outright, clique headers are signed,
// everything else (typed data, validator data) is left to the human.
function ApproveSignData(req) {
    switch (req.content_type) {
        case "text/plain":
            return "Reject";
        case "application/x-clique-header":
            return "Approve";
        default:
            return undefined;
    }
}
