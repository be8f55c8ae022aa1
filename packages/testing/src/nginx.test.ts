import { describe, expect, it } from 'vitest';
import { renderNginxConf } from './nginx.js';

describe('renderNginxConf', () => {
  it('puts the listen address, the upstreams and every path under the working directory, and keeps the rest of deploy/nginx.conf', () => {
    const conf = renderNginxConf({ listen: '127.0.0.1:9999', upstreams: ['127.0.0.1:1001', '127.0.0.1:1002'], dir: '/tmp/x', maxFails: 5, failTimeout: '2s', workers: 2 });
    expect(conf).toContain('listen 127.0.0.1:9999;');
    expect(conf).toContain('server 127.0.0.1:1001 max_fails=5 fail_timeout=2s;');
    expect(conf).toContain('server 127.0.0.1:1002 max_fails=5 fail_timeout=2s;');
    expect(conf).toContain('pid /tmp/x/nginx.pid;');
    expect(conf).toContain('error_log /tmp/x/error.log crit;'); // not lower: nginx logs ?token= with upstream errors
    expect(conf).toContain('proxy_temp_path /tmp/x/proxy_temp;');
    expect(conf).toContain('access_log off;');
    expect(conf).toMatch(/^worker_processes 2;$/m);
    // The deployed upstreams (Docker service names) are replaced, not kept beside the local ones.
    expect(conf.match(/^\s+server \S+ max_fails/gm)).toHaveLength(2);
    expect(conf).toContain('least_conn');
  });
});
