import { show } from '../issues';
import type { SemanticContext } from './context';

/** ingress: a static IP (or a reasoned opt-out), certificates for HTTPS, IAP with members, a health check Google accepts. */
export function checkIngress(ctx: SemanticContext): void {
  const { add, ingress } = ctx;
  if (ingress) {
    const ip = ingress.staticIp;
    if (ip.disabled) {
      if (!ip.reason)
        add(
          ['ingress', 'staticIp', 'reason'],
          `is required when staticIp.disabled is true; say why the fleet runs without a static IP`,
        );
      if (ip.name || ip.address) add(['ingress', 'staticIp'], `has both disabled: true and a name/address; remove one`);
      if (ingress.preSharedCertificates.length)
        add(
          ['ingress', 'preSharedCertificates'],
          `HTTPS needs a reserved static IP, but ingress.staticIp.disabled is true; set ingress.staticIp.name`,
        );
    } else if (!ip.name) {
      add(
        ['ingress', 'staticIp', 'name'],
        `is required: name the reserved global address (see infra/), or set disabled: true with a reason`,
      );
    }
    const cert = ingress.managedCertificate;
    if (cert && ingress.domains.length === 0) {
      add(
        ['ingress', 'managedCertificate'],
        `a Google-managed certificate needs ingress.domains (the names it certifies); add them, or remove managedCertificate`,
      );
    }
    if (cert && ingress.preSharedCertificates.includes(cert.name)) {
      add(
        ['ingress', 'preSharedCertificates'],
        `${show(cert.name)} is already ingress.managedCertificate.name (attached automatically); remove it from this list`,
      );
    }
    if (cert && ip.disabled)
      add(
        ['ingress', 'managedCertificate'],
        `HTTPS needs a reserved static IP, but ingress.staticIp.disabled is true; set ingress.staticIp.name`,
      );
    if (ingress.iap.enabled && ingress.preSharedCertificates.length === 0 && !cert) {
      add(
        ['ingress', 'iap'],
        `IAP needs HTTPS; add ingress.managedCertificate or ingress.preSharedCertificates, or set iap.enabled: false with a reason`,
      );
    }
    if (ingress.iap.enabled && ingress.iap.members.length === 0) {
      add(
        ['ingress', 'iap', 'members'],
        `is empty, so IAP would let nobody in (it admits only principals holding roles/iap.httpsResourceAccessor); list who may use the app, e.g. ["group:sd-users@example.com", "domain:example.com"]`,
      );
    }
    // Domain-restricted sharing refuses an IAM grant to a member outside the organisation's allowed
    // domains ("The domain restriction constraint will apply to any IAM policy changes",
    // https://cloud.google.com/resource-manager/docs/organization-policy/restricting-domains), which
    // secure-by-default organisations (created on or after 2024-05-03) enforce
    // (https://cloud.google.com/resource-manager/docs/secure-by-default-organizations).
    const domains = ingress.iap.organizationDomains;
    if (ingress.iap.enabled && domains?.length) {
      ingress.iap.members.forEach((m, i) => {
        const d = /^(?:user|group):[^@]+@(.+)$|^domain:(.+)$/.exec(m);
        const domain = d?.[1] ?? d?.[2];
        if (domain && !domains.some((o) => domain === o || domain.endsWith(`.${o}`)))
          add(
            ['ingress', 'iap', 'members', i],
            `${show(m)} is outside ingress.iap.organizationDomains (${domains.join(', ')}): domain-restricted sharing would refuse the grant and fail the apply; use a member of your organisation, or have an organisation policy administrator add ${domain}'s customer ID to the project's exception and list ${domain} in organizationDomains`,
          );
      });
    }
    if (!ingress.iap.enabled && !ingress.iap.reason) {
      add(['ingress', 'iap', 'reason'], `is required when iap.enabled is false; say why the app is public`);
    }
    if (ingress.healthCheck.timeoutSec > ingress.healthCheck.checkIntervalSec) {
      add(
        ['ingress', 'healthCheck', 'timeoutSec'],
        `${ingress.healthCheck.timeoutSec} is longer than checkIntervalSec (${ingress.healthCheck.checkIntervalSec}); Google rejects that`,
      );
    }
  }
}
