module.exports = require('../jest.project.cjs')('tools', __dirname);
