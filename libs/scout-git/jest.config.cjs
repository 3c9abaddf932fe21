module.exports = require('../../jest.project.cjs')('scout-git', __dirname);
