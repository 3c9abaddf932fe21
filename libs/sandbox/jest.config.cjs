module.exports = require('../../jest.project.cjs')('sandbox', __dirname);
