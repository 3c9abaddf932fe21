module.exports = {
  displayName: 'tools',
  preset: '../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/ci/count-reporter.cjs', { project: 'tools' }]],
};
