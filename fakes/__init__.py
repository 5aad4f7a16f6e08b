"""In-process fakes of everything outside the controller process: the API server, and (later) the backends."""
