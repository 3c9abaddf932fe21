module.exports = {
  displayName: 'gcp-catalog',
  preset: '../../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/../../tools/ci/count-reporter.cjs', { project: 'gcp-catalog' }]],
  coverageDirectory: '../../coverage/libs/gcp-catalog',
};
