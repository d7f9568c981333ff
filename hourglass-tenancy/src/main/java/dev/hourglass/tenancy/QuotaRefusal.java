package dev.hourglass.tenancy;

/**
 * Why a schedule was refused by its tenant's quotas.
 *
 * @param quota the quota's name as the admin API spells it (e.g. {@code schedulesPerSecond})
 * @param limit the tenant's limit
 * @param retryAfterSeconds when a retry may succeed (whole seconds, at least 1)
 * @param detail a sentence for people: what was exceeded, and by what
 */
public record QuotaRefusal(String quota, long limit, long retryAfterSeconds, String detail) {}
