"""Running the API under uvicorn."""

import uvicorn

from interfaces.api.app import create_app
from interfaces.bootstrap import Herald


def run_api(herald: Herald, host: str, port: int) -> None:
    uvicorn.run(create_app(herald), host=host, port=port, log_level="warning", access_log=False)
