// One cold import in a fresh CPython 3.14 (pyodide), laid out as Lambda's python3.14 runtime
// loads a function: its zip at /var/task, its layers at /opt, boto3 at /var/runtime. Used by
// benchmarks/bench_cold_import.py; nothing here reaches the network.
//
//   node cold_import.mjs <pyodide package folder> <job as JSON>
//
// The job: {"mounts": {"/var/task": host folder, ...}, "env": {...}} and what
// cold_import_child.py takes ("path", "target"). The answer, its JSON, one line on stdout.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

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
// The measurement itself is cold_import_child.py, the same file the 3.11 run executes.
const child = readFileSync(fileURLToPath(new URL("cold_import_child.py", import.meta.url)), "utf8");
// Run as a module, not as __main__: the script's own entry point is for the 3.11 run.
const namespace = pyodide.globals.get("dict")();
namespace.set("__name__", "cold_import_child");
pyodide.runPython(child, { globals: namespace, filename: "/bench/cold_import_child.py" });
namespace.set("JOB", jobText);
const answer = pyodide.runPython("json.dumps(measure(json.loads(JOB)))", { globals: namespace });
process.stdout.write(answer + "\n");
