"""An editor's view of a scenario file: the YAML language server (npm's yaml-language-server, the server of VS
Code's YAML extension, Neovim and Helix), driven over its protocol (JSON-RPC on stdio) with the shipped schema.

It needs Node.js and the server installed beside this test: `npm ci --prefix tests/editor` (.ci/run does it when
npm is there); without them the test is skipped."""

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests" / "editor" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
SCHEMA = ROOT / "assets" / "schema" / "scenario.schema.json"

pytestmark = pytest.mark.skipif(shutil.which("node") is None or not SERVER.is_file(),
                                reason="needs node and `npm ci --prefix tests/editor`")


class LanguageServer:
    """A client of a language server over stdio: requests, notifications and the server's own requests answered."""

    def __init__(self):
        self.proc = subprocess.Popen(["node", str(SERVER), "--stdio"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                key, value = line.split(":", 1)
                headers[key.lower()] = value.strip()
            self.inbox.put(json.loads(out.read(int(headers["content-length"]))))

    def _send(self, message):
        data = json.dumps(message).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        wanted = self.next_id
        return self.wait(lambda m: m.get("id") == wanted and "method" not in m)["result"]

    def wait(self, wanted, timeout_s=60.0):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            try:
                message = self.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if "method" in message and "id" in message:  # the server asks: its settings, or to register
                items = message.get("params", {}).get("items", [])
                result = [{"validate": True, "completion": True}] * len(items) \
                    if message["method"] == "workspace/configuration" else None
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            elif wanted(message):
                return message
        raise TimeoutError("the language server did not answer")

    def open(self, uri, text):
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                              "text": text}})

    def diagnostics(self, uri):
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri)["params"]["diagnostics"]

    def completion(self, uri, line, character):
        result = self.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                          "position": {"line": line, "character": character}})
        items = result["items"] if isinstance(result, dict) else result
        return [item["label"] for item in items]

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.reader.join(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def server():
    ls = LanguageServer()
    ls.request("initialize", {"processId": None, "rootUri": None, "capabilities": {
        "textDocument": {"completion": {"completionItem": {"snippetSupport": False}}},
        "workspace": {"configuration": True}}})
    ls.notify("initialized", {})
    ls.notify("workspace/didChangeConfiguration", {"settings": {"yaml": {
        "validate": True, "completion": True, "schemaStore": {"enable": False}}}})
    yield ls
    ls.close()


EXERCISE = """\
# yaml-language-server: $schema={schema}
id: editor-check
title: Editor check
objective: O
map: {map}
techniques: [{technique}]
targets:
  - region: {region}
product: {{name: x, form: liquid}}
devices: [hand]
mode: practice
pass_mark: 80
"""


def test_the_editor_offers_the_maps_regions_and_flags_a_wrong_technique(server, tmp_path):
    face = (tmp_path / "face.yaml").as_uri()
    server.open(face, EXERCISE.format(schema=SCHEMA.as_uri(), map="face", technique="micro-papul", region=""))
    (diagnostic,) = server.diagnostics(face)
    assert diagnostic["range"]["start"] == {"line": 5, "character": 13}
    assert diagnostic["message"] == ('Value is not accepted. Valid values: "superficial-nappage", "median-nappage", '
                                     '"deep-nappage", "micro-papule", "medium-papule", "infiltration".')
    offered = server.completion(face, 7, len("  - region: "))
    assert {"forehead", "temples", "crows-feet-left", "submental"} <= set(offered)
    assert "crown" not in offered  # a scalp region is not offered in a face exercise

    scalp = (tmp_path / "scalp.yaml").as_uri()
    server.open(scalp, EXERCISE.format(schema=SCHEMA.as_uri(), map="scalp", technique="scalp-microinjection",
                                       region="crown"))
    assert server.diagnostics(scalp) == []
    offered = server.completion(scalp, 7, len("  - region: "))
    assert "crown" in offered and "forehead" not in offered
