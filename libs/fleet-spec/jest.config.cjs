module.exports = {
  displayName: 'fleet-spec',
  preset: '../../jest.preset.js',
  rootDir: '.',
  coverageDirectory: '../../coverage/libs/fleet-spec',
};
