module.exports = require('../../jest.project.cjs')('scout-gcp', __dirname);
