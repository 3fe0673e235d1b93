"""The APIs: ``account_*`` for nodes (ExternalAPI, wrapped by AuditedAPI) and ``clef_*`` for stdio UIs."""
