"""Headless Firefox (ESR) for the browser tests, driven over Marionette (Debian has no geckodriver).

Firefox gathers no ICE candidates at all in a network namespace that has no default route (it decides it is offline;
the prefs that should stop that do not). `routed_private_address` gives the namespace a veth with an address and a
default route; the server's SFU must then bind that address, since Firefox does not offer loopback candidates.

Needs: apt-get install -y firefox-esr iproute2; pip install marionette-driver (Tests/EndToEnd/requirements.txt).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from browser_support import free_port

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
PRIVATE_ADDRESS = "10.77.0.1"


def routed_private_address(address: str = PRIVATE_ADDRESS) -> str:
    """Inside `private_network()`: a veth pair, `address`/24 on one end and a default route through the other."""
    for command in (["ip", "link", "add", "rooms-ff0", "type", "veth", "peer", "name", "rooms-ff1"],
                    ["ip", "addr", "add", f"{address}/24", "dev", "rooms-ff0"],
                    ["ip", "link", "set", "rooms-ff0", "up"], ["ip", "link", "set", "rooms-ff1", "up"],
                    ["ip", "route", "add", "default", "via", address.rsplit(".", 1)[0] + ".2", "dev", "rooms-ff0"]):
        subprocess.run(command, check=True, capture_output=True)
    return address


class Firefox:
    """One headless Firefox with fake camera and microphone and no permission prompts."""

    PREFS = {
        "media.navigator.streams.fake": True,
        "media.navigator.permission.disabled": True,
        "media.autoplay.default": 0,
        "media.autoplay.blocking_policy": 0,
        "browser.shell.checkDefaultBrowser": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "app.update.disabledForTesting": True,
    }

    def __init__(self, log_dir: Path):
        from marionette_driver.marionette import Marionette
        self.profile = Path(tempfile.mkdtemp(prefix="rooms-firefox-"))
        port = free_port()
        prefs = dict(self.PREFS, **{"marionette.port": port})
        (self.profile / "user.js").write_text("".join(
            f'user_pref("{k}", {str(v).lower() if isinstance(v, bool) else v});\n' for k, v in prefs.items()))
        self.log = open(log_dir / f"firefox-{port}.log", "wb")
        self.proc = subprocess.Popen([FIREFOX, "--headless", "--marionette", "--no-remote", "--profile", str(self.profile)],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.marionette = Marionette(host="127.0.0.1", port=port)
        self.marionette.start_session(timeout=60)

    def get(self, url: str):
        self.marionette.navigate(url)

    def js(self, script: str, *args):
        """Runs `script` in the page itself (not Marionette's sandbox), so that page globals are visible."""
        return self.marionette.execute_script(script, script_args=args, sandbox=None)

    def quit(self):
        try:
            self.marionette.delete_session()
        except Exception:
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        time.sleep(0.2)
        shutil.rmtree(self.profile, ignore_errors=True)
