#!/usr/bin/env node
// ajv-validate: checks JSON files against a JSON Schema (draft 2020-12)
// with ajv and ajv-formats from the top-level node_modules.
//
//   node tests/tools/ajv-validate.js SCHEMA FILE...
//
// Every *.schema.json beside SCHEMA is loaded too, so schemas may refer to
// one another by $id.  Prints one line per error ("FILE: /path message")
// and exits 1 if any file is invalid, 2 on a usage, read or parse error.
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const Ajv2020 = require(path.join(root, 'node_modules', 'ajv', 'dist', '2020'));
const addFormats = require(path.join(root, 'node_modules', 'ajv-formats'));

function load(file) {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8'));
	} catch (e) {
		console.error(`${file}: ${e.message}`);
		process.exit(2);
	}
}

const args = process.argv.slice(2);
if (args.length < 2) {
	console.error('usage: node tests/tools/ajv-validate.js SCHEMA FILE...');
	process.exit(2);
}
const schemaFile = path.resolve(args[0]);
const ajv = new Ajv2020({ strict: true, strictRequired: false,
	allErrors: true,
	allowUnionTypes: true });
addFormats(ajv);

const dir = path.dirname(schemaFile);
let main = null;
for (const f of fs.readdirSync(dir).sort()) {
	if (!f.endsWith('.schema.json'))
		continue;
	const full = path.join(dir, f);
	const s = load(full);
	try {
		ajv.addSchema(s, s.$id === undefined ? f : undefined);
	} catch (e) {
		console.error(`${full}: ${e.message}`);
		process.exit(2);
	}
	if (full === schemaFile)
		main = s;
}
if (main === null) {
	main = load(schemaFile);
	ajv.addSchema(main, path.basename(schemaFile));
}
let validate;
try {
	validate = ajv.getSchema(main.$id || path.basename(schemaFile));
} catch (e) {
	console.error(`${schemaFile}: ${e.message}`);
	process.exit(2);
}

let bad = 0;
for (const file of args.slice(1)) {
	const doc = load(file);
	if (validate(doc))
		continue;
	bad++;
	for (const e of validate.errors)
		console.log(`${file}: ${e.instancePath || '/'} ${e.message}` +
		    (e.params && Object.keys(e.params).length ?
		    ` ${JSON.stringify(e.params)}` : ''));
}
process.exit(bad ? 1 : 0);
