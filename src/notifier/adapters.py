"""The production adapters of the ports: asyncio, and the official `kubernetes` client (imported on use of this
module only: it is heavy)."""

from notifier._adapters import AsyncioRuntime, OfficialKubeApi, translate_api_exception, translate_transport_error

__all__ = ["AsyncioRuntime", "OfficialKubeApi", "translate_api_exception", "translate_transport_error"]
