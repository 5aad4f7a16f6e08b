"""Production adapters of the ports: asyncio and the official `kubernetes` client.

The only part of `notifier` allowed to touch the wall clock, threads and the network.
"""

from notifier._adapters.asyncio_runtime import AsyncioRuntime
from notifier._adapters.kube import OfficialKubeApi, translate_api_exception, translate_transport_error

__all__ = ["AsyncioRuntime", "OfficialKubeApi", "translate_api_exception", "translate_transport_error"]
