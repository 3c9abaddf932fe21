module.exports = {
  displayName: 'sandbox',
  preset: '../../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/../../tools/ci/count-reporter.cjs', { project: 'sandbox' }]],
  coverageDirectory: '../../coverage/libs/sandbox',
};
