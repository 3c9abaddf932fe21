module.exports = require('../../jest.project.cjs')('scout-domain', __dirname);
