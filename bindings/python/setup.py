"""Builds the _wfpsim extension for `pip install --no-build-isolation ./bindings/python`.

The extension's C sources are bindings/src/*.c; it links the static C
libraries of a CMake build of this checkout (built with -fPIC):

  * $WFPSIM_BUILD_DIR, if set, must hold libwfpsimlib.a, libwfppcap.a and
    libwfpcore.a (a configured and built CMake tree);
  * otherwise build/ at the top of the checkout is used, and when the
    libraries are missing there, CMake is run to configure it and build just
    those three targets.

The system libraries they need (libyaml, libpcap, libxml2, Graphviz) are
found with pkg-config, as CMake finds them.
"""

import glob
import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
LIBS = ["wfpsimlib", "wfppcap", "wfpcore"]  # link order: users first
PKGS = ["yaml-0.1", "libpcap", "libxml-2.0", "libgvc", "libcgraph"]


def static_lib(build_dir, name):
    for pattern in ("lib%s.a" % name, "%s.lib" % name, os.path.join("*", "%s.lib" % name)):
        hits = glob.glob(os.path.join(build_dir, pattern))
        if hits:
            return hits[0]
    return None


def ensure_libraries():
    build_dir = os.environ.get("WFPSIM_BUILD_DIR")
    if build_dir:
        build_dir = os.path.abspath(build_dir)
    else:
        build_dir = os.path.join(ROOT, "build")
    libs = [static_lib(build_dir, n) for n in LIBS]
    if all(libs):
        return build_dir, libs
    if os.environ.get("WFPSIM_BUILD_DIR"):
        sys.exit("wfpsim: %s lacks %s (build it with CMake first)"
                 % (build_dir, ", ".join(n for n, l in zip(LIBS, libs) if not l)))
    print("wfpsim: building the C libraries with CMake in %s" % build_dir)
    subprocess.check_call(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                           "-DWFPSIM_PYTHON=OFF"])
    subprocess.check_call(["cmake", "--build", build_dir, "--target"] + LIBS)
    libs = [static_lib(build_dir, n) for n in LIBS]
    if not all(libs):
        sys.exit("wfpsim: CMake did not produce %s" % ", ".join(LIBS))
    return build_dir, libs


def pkg_config(*args):
    try:
        out = subprocess.check_output(["pkg-config"] + list(args) + PKGS, text=True)
    except (OSError, subprocess.CalledProcessError):
        return []
    return shlex.split(out)


class BuildExt(build_ext):
    def build_extensions(self):
        _, libs = ensure_libraries()
        for ext in self.extensions:
            # absolute: objects then go to build/temp.*/<path>, not outside it
            ext.sources = [os.path.normpath(os.path.join(HERE, p)) for p in ext.sources]
            ext.extra_objects = libs + ext.extra_objects
            flags = pkg_config("--libs")
            ext.libraries += [f[2:] for f in flags if f.startswith("-l")]
            ext.library_dirs += [f[2:] for f in flags if f.startswith("-L")]
            ext.include_dirs += [f[2:] for f in pkg_config("--cflags-only-I") if f.startswith("-I")]
        super().build_extensions()


ext = Extension(
    "wfpsim._wfpsim",
    # relative for setuptools' manifest; made absolute when compiled (BuildExt)
    sources=sorted(os.path.relpath(p, HERE).replace(os.sep, "/")
                   for p in glob.glob(os.path.join(ROOT, "bindings", "src", "*.c"))),
    include_dirs=[os.path.join(ROOT, d) for d in ("bindings/src", "core", "sim", "pcap")],
    extra_compile_args=[] if os.name == "nt" else ["-std=c11"],
)

setup(ext_modules=[ext], cmdclass={"build_ext": BuildExt})
