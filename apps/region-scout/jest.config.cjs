module.exports = require('../../jest.project.cjs')('region-scout', __dirname);
