// The jest config every project uses: the shared preset plus the count reporter that .ci/run reads.
const { relative } = require('node:path');

module.exports = function jestProject(name, dir) {
  const root = relative(dir, `${__dirname}/../..`) || '.';
  return {
    displayName: name,
    preset: `${root}/jest.preset.js`,
    rootDir: dir,
    reporters: ['default', [`${__dirname}/count-reporter.cjs`, { project: name }]],
    coverageDirectory: `${__dirname}/../../coverage/${relative(`${__dirname}/../..`, dir)}`,
  };
};
