// The kubelet's credential keyring (pkg/credentialprovider keyring.go, URLsMatch): which pull-secret
// key matches which image, case by case. Host and port split as Go's net.SplitHostPort splits them
// (on its error the whole text is the host and there is no port); the host's dot-separated labels
// match one for one with filepath.Match; the ports must be equal (none equals none); the key's path
// is a string prefix of the image's path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyMatches, keyringKey } from '../src/registry/credentials.ts';

describe('keyMatches: the kubelet\'s URLsMatch, case by case', () => {
  const cases: [key: string, image: string, matches: boolean, why: string][] = [
    // Ports.
    ['registry.example.com', 'registry.example.com:443/app', false, 'a port on the image only'],
    ['registry.example.com:443', 'registry.example.com/app', false, 'a port on the key only'],
    ['registry.example.com:5000', 'registry.example.com:5000/app', true, 'equal ports'],
    ['*', 'localhost/app', true, 'a lone star is one label of any host without a port'],
    ['*', 'localhost:5000/app', false, 'a lone star has no port'],
    ['*', '[::1]:5000/app', false, 'a lone star has no port, an IPv6 image neither'],
    ['*:5000', 'localhost:5000/app', true, 'a star label with a port'],
    ['*:5000', '[::1]:5000/app', true, 'the brackets are not part of the host'],
    ['*:5000', '[::1]:5001/app', false, 'another port'],
    // IPv6: brackets, colons.
    ['[::1]:5000', '[::1]:5000/app', true, 'bracketed host and port'],
    ['[::1]:5000', '[::1]:5001/app', false, 'bracketed host, another port'],
    ['[::?]:5000', '[::1]:5000/app', false, 'a "?" starts a query: the key\'s host is "[::"'],
    ['[::1]', '[::1]/app', false, 'brackets without a port stay, and "[::1]" is a class: one character'],
    ['[::1]', '[::1]:5000/app', false, 'brackets without a port, an image with one'],
    ['*:5000', 'a:b:5000/app', false, 'two colons without brackets: Go sees no port'],
    ['registry:', 'registry/app', true, 'an empty port after the colon is no port'],
    ['[::1]:50:00', '[::1]:50:00/app', false, 'a colon after the port: no port, and a glob "[::1]" of one character'],
    // Go refuses a "[" or "]" outside the brackets of an IPv6 host: then there is no port either.
    ['registry-[0-9].example.com:5000', 'registry-1.example.com:5000/app', false, 'a class in a host with a port: Go sees no port in the key'],
    ['registry-[0-9].example.com', 'registry-1.example.com/app', true, 'a class in a host without a port'],
    ['registry-[0-9].example.com', 'registry-x.example.com/app', false, 'a class that does not match'],
    ['[ab]:5000', 'a:5000/app', false, 'a class in brackets is an IPv6 host to Go: "ab", not a class'],
    ['[ab]:5000', 'ab:5000/app', true, 'brackets around a name: the name inside'],
    ['[::1]:50]', '[::1]:50]/app', false, 'a "]" in the port'],
    ['[a[b]:5000', '[a[b]:5000/app', false, 'a "[" inside the brackets'],
    // Labels.
    ['*.example.com', 'registry.example.com/app', true, 'a star label'],
    ['*.*.com', 'registry.example.com/app', true, 'two star labels'],
    ['*.example.com', 'registry.example.org/app', false, 'another last label'],
    ['example.*', 'example.com/app', true, 'a star last label'],
    ['registry.example.com', 'REGISTRY.example.com/app', false, 'labels compare case-sensitively'],
    // Paths: a string prefix.
    ['quay.io/team', 'quay.io/team/app', true, 'the key\'s path is a prefix'],
    ['quay.io/team', 'quay.io/teammate/app', true, 'a string prefix, not a path-segment prefix'],
    ['quay.io/team', 'quay.io/other/app', false, 'another path'],
    ['quay.io/team', 'quay.io', false, 'an image without a path'],
  ];
  for (const [key, image, matches, why] of cases) {
    it(`${JSON.stringify(key)} ${matches ? 'matches' : 'does not match'} ${image} (${why})`, () => assert.equal(keyMatches(key, image), matches));
  }
});

describe('keyringKey: a location read as url.Parse("https://" + location) reads it', () => {
  const cases: [location: string, key: string | undefined][] = [
    ['http://quay.io', 'quay.io'],
    ['https://quay.io/', 'quay.io'],
    ['quay.io/', 'quay.io'],
    ['quay.io/v1/', 'quay.io'],
    ['quay.io/v2/team', 'quay.io/team'],
    ['quay.io/v1', 'quay.io/v1'],
    ['quay.io/v3/team', 'quay.io/v3/team'],
    ['quay.io/team/v2/app', 'quay.io/team/v2/app'],
    ['quay.io/team/v1/', 'quay.io/team/v1/'],
    ['r/team', 'r/team'],
    ['quay.io?query=1', 'quay.io'],
    ['quay.io#fragment', 'quay.io'],
    ['quay.io/team?query=1', 'quay.io/team'],
    ['quay.io/team#fragment/x', 'quay.io/team'],
    ['quay.io?next=/team', 'quay.io'],
    ['robot@quay.io/team', 'quay.io/team'],
    ['https://robot:token@quay.io:8443/team', 'quay.io:8443/team'],
    ['quay.io/team/https://other.io', 'quay.io/team/https://other.io'],
    ['/team', undefined],
    ['robot@', undefined],
  ];
  for (const [location, key] of cases) it(`keys ${JSON.stringify(location)} as ${String(key)}`, () => assert.equal(keyringKey(location), key));
});
