module.exports = {
  displayName: 'scout-gcp',
  preset: '../../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/../../tools/ci/count-reporter.cjs', { project: 'scout-gcp' }]],
  coverageDirectory: '../../coverage/libs/scout-gcp',
};
