#!/usr/bin/env node
'use strict';
// region-scout from source, in this one process: tsx's CommonJS require hook compiles each
// TypeScript file on first use and caches it on disk, so `npm ci` is the only set-up and no second
// Node process starts (the tsx CLI would spawn one). Commands load their SDKs only when they run
// (src/program.ts). The container image runs the esbuild bundle instead (apps/region-scout/README.md).
const { join } = require('node:path');

process.env.TSX_TSCONFIG_PATH ??= join(__dirname, '..', '..', '..', 'tsconfig.base.json');
require('tsx/cjs/api').register();
require('../src/main.ts');
