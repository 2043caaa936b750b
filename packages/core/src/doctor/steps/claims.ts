import { inspectClaims, rbacInferred } from '../findings.js';
import type { DiagnoseOptions, DiagnosticStep } from '../types.js';
import type { Outcome } from '../util.js';
import type { DiagnosisState } from './state.js';

/**
 * Step `claims`: what Exchange will check in the token (audience, roles, tenant, app-only), judged
 * by the entry's permission model. Keeps the decoded view in `state.claims` for later steps.
 */
export async function checkClaims(state: DiagnosisState, _options: DiagnoseOptions): Promise<Outcome> {
  const token = state.accessToken;
  if (!token) throw new Error('the claims step needs an access token');
  return inspectClaims(token, state.config, state.fixValues, state.now, (cv) => {
    state.claims = cv;
  });
}

/**
 * After a successful AUTH: the claims step judged a token without roles by the classic model, but
 * AUTH proved the tenant uses RBAC for Applications, so that verdict is replaced by what was inferred.
 */
export function reviseClaimsAfterAuth(state: DiagnosisState, claimsStep: DiagnosticStep | undefined): void {
  const inferred = rbacInferred(state.config, state.claims);
  if (inferred && claimsStep?.status === 'fail') {
    claimsStep.status = 'warn';
    claimsStep.causes = inferred.causes;
    claimsStep.fix = inferred.fix;
  }
}
