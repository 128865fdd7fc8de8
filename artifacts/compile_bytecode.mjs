// Compile Python sources to CPython bytecode with the pinned pyodide: CPython built for
// WebAssembly, run by Node.js, so no interpreter of the Lambda runtime's version is needed on
// the build machine. Used by artifacts/bytecode.py; nothing here reaches the network.
//
//   node compile_bytecode.mjs <pyodide package folder> <snapshot folder>   (job on stdin)
//
// Starting CPython in WebAssembly takes seconds; restoring a memory snapshot of the started
// interpreter takes a few hundred milliseconds. The first run makes the snapshot (one per
// pyodide and Node.js version) in the snapshot folder; later runs restore it, and fall back to
// a plain start if it cannot be restored. The pycs are the same bytes either way (marshal
// output depends neither on the hash seed nor on what was imported before).
//
// The job: {"files": [[source, output, dfile], ...]}, host paths; the answer, one JSON line
// on stdout: {"version", "magic", "cache_tag", "compiled", "failed": [[source, reason], ...]}.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [packageFolder, snapshotFolder] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(path.join(packageFolder, "pyodide.mjs")));
const { version } = JSON.parse(fs.readFileSync(path.join(packageFolder, "package.json")));
const snapshot = path.join(snapshotFolder, `pyodide-${version}-node${process.versions.node}.bin`);
// No packages are loaded: the standard library inside the package is all the compiler needs.
const options = { indexURL: packageFolder + path.sep, stdout: () => {} };
const PRELOAD = "import importlib.util, json, py_compile, sys, warnings";

async function start() {
  if (fs.existsSync(snapshot)) {
    try {
      return await loadPyodide({ ...options, _loadSnapshot: fs.readFileSync(snapshot) });
    } catch {
      // A snapshot this pyodide cannot restore: start plainly and make a new one.
    }
  }
  const started = await loadPyodide({ ...options, _makeSnapshot: true });
  started.runPython(PRELOAD);
  fs.mkdirSync(snapshotFolder, { recursive: true });
  const partial = `${snapshot}.${process.pid}.partial`;
  fs.writeFileSync(partial, started.makeMemorySnapshot());
  fs.renameSync(partial, snapshot); // whole files only
  return started;
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const pyodide = await start();
// The host's file system appears under /host, so host paths work with that prefix.
pyodide.FS.mkdirTree("/host");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: "/" }, "/host");
pyodide.globals.set("JOB", input);
const answer = pyodide.runPython(`
import importlib.util, json, py_compile, sys, warnings

# Third-party sources may hold old escape sequences; a warning is not the build's business.
warnings.simplefilter("ignore")
job = json.loads(JOB)
compiled, failed = 0, []
for source, output, dfile in job["files"]:
    try:
        py_compile.compile(
            "/host" + source,
            cfile="/host" + output,
            dfile=dfile,  # co_filename: where Lambda will find the source
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        compiled += 1
    except py_compile.PyCompileError as error:
        # Where in the file, as Python reports it: the line a user goes to.
        line = getattr(error.exc_value, "lineno", None)
        reason = error.msg.strip().splitlines()[-1]
        failed.append([source, f"line {line}: {reason}" if line else reason])
json.dumps({
    "version": sys.version.split()[0],
    "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"),
    "cache_tag": sys.implementation.cache_tag,
    "compiled": compiled,
    "failed": failed,
})
`);
process.stdout.write(answer + "\n");
