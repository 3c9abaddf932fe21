module.exports = require('../../jest.project.cjs')('scout-decide', __dirname);
