// One cold import in a fresh CPython 3.14 (pyodide), laid out as Lambda's python3.14 runtime
// loads a function: its zip at /var/task, its layers at /opt, boto3 at /var/runtime. Used by
// benchmarks/bench_cold_import.py; nothing here reaches the network.
//
//   node cold_import.mjs <pyodide package folder> <job as JSON>
//
// The job: {"mounts": {"/var/task": host folder, ...}, "path": [sys.path entries, first
// first], "env": {...}, "target": "module.attribute" or "floor"}. The answer, one JSON line on
// stdout: {"seconds", "source", "compiled": [modules compiled from source during the import]}.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [packageFolder, jobText] = process.argv.slice(2);
const job = JSON.parse(jobText);
const { loadPyodide } = await import(pathToFileURL(path.join(packageFolder, "pyodide.mjs")));
const pyodide = await loadPyodide({
  indexURL: packageFolder + path.sep,
  env: job.env,
  stdout: (line) => process.stderr.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
for (const [mountPoint, hostFolder] of Object.entries(job.mounts)) {
  pyodide.FS.mkdirTree(mountPoint);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: hostFolder }, mountPoint);
}
pyodide.globals.set("JOB", jobText);
const answer = pyodide.runPython(`
import importlib, importlib.machinery, json, sys, time

job = json.loads(JOB)
sys.dont_write_bytecode = True  # /var/task and /opt are read-only on Lambda
sys.path[:0] = job["path"]
importlib.invalidate_caches()

# Every module whose bytecode is missing (or unusable) is compiled from its source here.
compiled = []
original = importlib.machinery.SourceFileLoader.source_to_code
def counted(self, data, path, *args, **kwargs):
    compiled.append(path)
    return original(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = counted

if job["target"] == "floor":
    started = time.perf_counter()
    import boto3
    boto3.client("dynamodb")
    elapsed = time.perf_counter() - started
    source = boto3.__file__
else:
    module_name, _, attribute = job["target"].rpartition(".")
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute)
    elapsed = time.perf_counter() - started
    source = module.__file__
    if not callable(handler):
        raise SystemExit(job["target"] + " is not callable")
json.dumps({"seconds": elapsed, "source": source, "compiled": compiled})
`);
process.stdout.write(answer + "\n");
