// The jest config every project uses: the shared preset plus the count reporter that .ci/run reads.
// It lives at the workspace root, outside every Nx project: a require() into tools/ would make
// each project depend on the tools project, which itself imports the libs (a cycle).
const { join, relative } = require('node:path');

module.exports = function jestProject(name, dir) {
  return {
    displayName: name,
    preset: join(relative(dir, __dirname) || '.', 'jest.preset.js'),
    rootDir: dir,
    // referenced by path (not required), so Nx sees no dependency on the tools project
    reporters: ['default', [join(__dirname, 'tools/ci/count-reporter.cjs'), { project: name }]],
    coverageDirectory: join(__dirname, 'coverage', relative(__dirname, dir)),
  };
};
