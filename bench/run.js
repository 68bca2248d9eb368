// Runs the benchmarks named on the command line (default: all) and prints their figures.
const all = ["generator"];
for (const name of process.argv.slice(2).length ? process.argv.slice(2) : all) {
  console.log(`\n## ${name}`);
  await import(`./${name}.js`);
}
