"""JSON-RPC transports: the dispatcher (envelope and method table), the IPC and HTTP servers."""

from signer.rpc.dispatch import Dispatcher
from signer.rpc.http import HttpServer
from signer.rpc.ipc import IpcServer

__all__ = ["Dispatcher", "HttpServer", "IpcServer"]
