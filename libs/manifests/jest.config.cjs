module.exports = {
  displayName: 'manifests',
  preset: '../../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/../../tools/ci/count-reporter.cjs', { project: 'manifests' }]],
  coverageDirectory: '../../coverage/libs/manifests',
};
