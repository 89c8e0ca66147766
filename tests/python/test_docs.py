"""docs/python.md stays true: its Python code blocks run, in order, in one
namespace (in a scratch directory)."""

import os
import re
import shutil
import tempfile
import unittest

from support import SOURCE_DIR

DOC = os.path.join(SOURCE_DIR, "docs", "python.md")


class Tutorial(unittest.TestCase):
    def test_code_blocks_run(self):
        with open(DOC, encoding="utf-8") as f:
            blocks = re.findall(r"^```python\n(.*?)^```", f.read(), re.S | re.M)
        self.assertGreater(len(blocks), 8)
        here = os.getcwd()
        scratch = tempfile.mkdtemp(prefix="wfpsim-docs-")
        ns = {"__name__": "docs_python_md"}
        try:
            os.chdir(scratch)
            for i, code in enumerate(blocks, 1):
                with self.subTest(block=i):
                    exec(compile(code, "%s (block %d)" % (DOC, i), "exec"), ns)
        finally:
            os.chdir(here)
            shutil.rmtree(scratch, ignore_errors=True)
            if isinstance(ns.get("workdir"), str):
                shutil.rmtree(ns["workdir"], ignore_errors=True)
            for v in list(ns.values()):
                close = getattr(v, "close", None)
                if type(v).__name__ in ("Engine", "Session") and close:
                    close()


if __name__ == "__main__":
    unittest.main()
