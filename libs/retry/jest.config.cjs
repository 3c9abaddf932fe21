module.exports = require('../../jest.project.cjs')('retry', __dirname);
