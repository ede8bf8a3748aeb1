"""A throwaway Orthanc with its DICOMweb plugin on a free loopback port: a JSON config written to a
temporary folder (storage and index there too), DICOM networking off, HTTP basic authentication
on with one test user, started as a subprocess and stopped afterwards. Debian's `orthanc` and
`orthanc-dicomweb` packages (`make setup-test` installs them)."""

from __future__ import annotations

import glob
import json
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

USER, PASSWORD = "radiologist", "orthanc-test-pw"
PLUGIN_GLOBS = ("/usr/share/orthanc/plugins/libOrthancDicomWeb.so", "/usr/lib/orthanc/libOrthancDicomWeb.so*")
# Lua: Orthanc refuses what this filter returns false for, so a STOW can be refused for a real reason.
REFUSE_LUA = """
function ReceivedInstanceFilter(dicom, origin, info)
  if dicom.SeriesDescription == 'REFUSE ME' then return false end
  return true
end
"""


@dataclass(frozen=True)
class Orthanc:
    url: str  # http://127.0.0.1:PORT
    folder: Path

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def auth(self) -> tuple[str, str]:
        return USER, PASSWORD

    def upload(self, data: bytes) -> dict:
        """Store one DICOM file through Orthanc's REST API (the tests' own loading path)."""
        response = requests.post(f"{self.url}/instances", data=data, auth=self.auth, timeout=30)
        response.raise_for_status()
        return response.json()

    def delete(self, sop_uid: str) -> None:
        """Remove one instance (found by its SOP Instance UID) from Orthanc."""
        found = requests.post(f"{self.url}/tools/lookup", data=sop_uid, auth=self.auth, timeout=10).json()
        for item in found:
            requests.delete(f"{self.url}{item['Path']}", auth=self.auth, timeout=10).raise_for_status()

    def clear(self) -> None:
        for patient in requests.get(f"{self.url}/patients", auth=self.auth, timeout=30).json():
            requests.delete(f"{self.url}/patients/{patient}", auth=self.auth, timeout=30).raise_for_status()


def plugin_path() -> str | None:
    for pattern in PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def orthanc_server(start_timeout: float = 30.0):
    """Yields an `Orthanc`; the process and its folder are gone afterwards."""
    binary = shutil.which("Orthanc") or (Path("/usr/sbin/Orthanc").is_file() and "/usr/sbin/Orthanc")
    plugin = plugin_path()
    if not binary or not plugin:
        raise RuntimeError("Orthanc and its DICOMweb plugin are not installed (make setup-test installs Debian's "
                           "orthanc and orthanc-dicomweb)")
    folder = Path(tempfile.mkdtemp(prefix="cxrviz-orthanc-"))
    port = _free_port()
    (folder / "refuse.lua").write_text(REFUSE_LUA)
    config = {
        "Name": "cxrviz-test", "StorageDirectory": str(folder / "db"), "IndexDirectory": str(folder / "db"),
        "HttpPort": port, "DicomServerEnabled": False, "DicomPort": 0, "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True, "RegisteredUsers": {USER: PASSWORD}, "HttpCompressionEnabled": False,
        "Plugins": [plugin], "LuaScripts": [str(folder / "refuse.lua")],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True, "StudiesMetadata": "Full"},
        "StorageCompression": False, "SaveJobs": False,
    }
    (folder / "orthanc.json").write_text(json.dumps(config, indent=1))
    log = open(folder / "orthanc.log", "wb")
    process = subprocess.Popen([binary, str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = Orthanc(f"http://127.0.0.1:{port}", folder)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {process.returncode}: {(folder / 'orthanc.log').read_text()[-2000:]}")
            try:
                if requests.get(f"{server.url}/system", auth=server.auth, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Orthanc did not answer within {start_timeout:.0f} s")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
