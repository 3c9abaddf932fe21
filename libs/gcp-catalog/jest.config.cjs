module.exports = require('../../jest.project.cjs')('gcp-catalog', __dirname);
