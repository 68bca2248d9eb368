// The I/O of a generator run and nothing else, as a floor for the generator bench: list the
// definitions, read each as the generator does (lstat, a non-blocking open that refuses a link,
// read, close), and write one unit of SIZE bytes per definition as it does (an exclusive create,
// one write, close). CommonJS and no imports beyond node:fs, as the generator's launcher.
// Usage: node io-floor.cjs DEFS OUT SIZE
"use strict";
const fs = require("node:fs");
const [defs, out, size] = process.argv.slice(2);
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const buf = Buffer.allocUnsafe(65536);
const unit = "x".repeat(Number(size));
fs.mkdirSync(out, { recursive: true });
let read = 0;
for (const name of fs.readdirSync(defs)) {
  const path = `${defs}/${name}`;
  fs.lstatSync(path);
  const fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  read += buf.toString("utf8", 0, n).length;
  const written = fs.openSync(`${out}/${name}.service`, O_WRONLY | O_CREAT | O_EXCL, 0o644);
  fs.writeSync(written, unit);
  fs.closeSync(written);
}
if (read === 0) process.exitCode = 1;
process.exit();
