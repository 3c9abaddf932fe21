module.exports = {
  displayName: 'manifests',
  preset: '../../jest.preset.js',
  rootDir: '.',
  coverageDirectory: '../../coverage/libs/manifests',
};
