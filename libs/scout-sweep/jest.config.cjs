module.exports = require('../../jest.project.cjs')('scout-sweep', __dirname);
