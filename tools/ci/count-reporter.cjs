// Jest reporter: records this project's pass/fail counts in dist/test-results/<project>.json so
// .ci/run can print one "N passed, N failed" line for the whole workspace (Nx runs one jest per project).
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class CountReporter {
  constructor(globalConfig, options) {
    this.name = (options && options.project) || 'unknown';
  }
  onRunComplete(_contexts, results) {
    const dir = join(__dirname, '../../dist/test-results');
    mkdirSync(dir, { recursive: true });
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    writeFileSync(join(dir, `${this.name}.json`), JSON.stringify(counts) + '\n');
  }
}
module.exports = CountReporter;
