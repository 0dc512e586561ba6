import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import type { Agent } from 'node:http';
import type { WebhookEnv } from '@app/config';
import { DomainError } from '@app/contracts';

type Policy = WebhookEnv['WEBHOOK_ALLOW_PRIVATE_TARGETS'];

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/** Whether an address may receive webhooks under the policy: public unicast always, the rest by setting. */
export function addressAllowed(address: string, policy: Policy): boolean {
  if (policy === 'all') return true;
  const ip = ipaddr.process(address); // IPv4-mapped IPv6 is judged as the IPv4 it is
  if (ip.range() === 'unicast') return true;
  return policy === 'loopback' && ip.range() === 'loopback';
}

/**
 * At registration: the URL's host must resolve, and every address it resolves to must be allowed
 * (private, loopback, link-local, unique-local and reserved ranges are refused by default), so a
 * tenant cannot point deliveries at the platform's own network.
 */
export async function checkTarget(url: string, policy: Policy): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw new DomainError('validation_failed', `The webhook host ${host} does not resolve.`, { errors: [{ field: 'url', message: 'does not resolve' }] });
  }
  const refused = addresses.find((a) => !addressAllowed(a, policy));
  if (refused) {
    throw new DomainError('validation_failed', `Webhook targets on private, loopback or link-local addresses are not allowed (${host} is ${refused}).`, {
      errors: [{ field: 'url', message: 'resolves to a non-public address' }],
    });
  }
}

/**
 * At delivery: an http(s) agent (request-filtering-agent) that checks the address actually
 * connected to, after DNS, so a name that resolved to a public address at registration and to a
 * private one later (DNS rebinding) is still refused.
 */
export function deliveryAgent(url: string, policy: Policy): Agent {
  let pair = agents.get(policy);
  if (!pair) {
    const options = { allowPrivateIPAddress: policy === 'all', allowIPAddressList: policy === 'loopback' ? LOOPBACK : [], keepAlive: true, maxSockets: 64 };
    pair = { http: new RequestFilteringHttpAgent(options), https: new RequestFilteringHttpsAgent(options) };
    agents.set(policy, pair);
  }
  return url.startsWith('https:') ? pair.https : pair.http;
}

/** One pair of pooled agents per policy, shared by every delivery. */
const agents = new Map<Policy, { http: Agent; https: Agent }>();
