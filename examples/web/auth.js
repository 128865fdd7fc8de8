// Sign-in against the stack's Cognito user pool with SRP (USER_SRP_AUTH), the flow its app
// client allows: the password never leaves the browser, only a proof of it. The library is
// amazon-cognito-identity-js, whose bundle index.html loads as a classic script.

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = window.AmazonCognitoIdentity;

// Tokens last as long as the tab: sessionStorage rather than the library's localStorage.
const storage = window.sessionStorage;

// A challenge this example does not answer: the pool requires MFA (ENV=prod).
export class MfaNotSupported extends Error {
  constructor() {
    super(
      'This user pool requires MFA (TOTP). Setting up or entering TOTP is not part of this ' +
        'example: use a stack without MFA (dev or staging).',
    );
    this.code = 'mfa_not_supported';
  }
}

export function createAuth(config) {
  const pool = new CognitoUserPool({
    UserPoolId: config.userPoolId,
    ClientId: config.clientId,
    Storage: storage,
    // Locally the emulator answers for Cognito; on AWS the library's regional endpoint.
    ...(config.cognitoEndpoint ? { endpoint: config.cognitoEndpoint } : {}),
  });

  // One set of callbacks for authenticateUser and completeNewPasswordChallenge. The promise
  // resolves to {session}, or to {newPassword(password)} when the user must choose one.
  function callbacks(user, resolve, reject) {
    const refuseMfa = () => reject(new MfaNotSupported());
    return {
      onSuccess: (session) => resolve({ session }),
      onFailure: (error) => reject(error),
      newPasswordRequired: () =>
        resolve({
          newPassword: (password) =>
            new Promise((done, fail) =>
              // No attributes to add: the administrator set them when creating the user.
              user.completeNewPasswordChallenge(password, {}, callbacks(user, done, fail)),
            ),
        }),
      mfaSetup: refuseMfa,
      totpRequired: refuseMfa,
      mfaRequired: refuseMfa,
      selectMFAType: refuseMfa,
      customChallenge: () => reject(new Error('The pool asked for a custom challenge.')),
    };
  }

  return {
    signIn(username, password) {
      const user = new CognitoUser({ Username: username, Pool: pool, Storage: storage });
      const details = new AuthenticationDetails({ Username: username, Password: password });
      return new Promise((resolve, reject) => {
        user.authenticateUser(details, callbacks(user, resolve, reject));
      });
    },

    // The signed-in session, refreshed with the refresh token once it expires; null if none.
    session() {
      const user = pool.getCurrentUser();
      if (!user) return Promise.resolve(null);
      return new Promise((resolve, reject) => {
        user.getSession((error, session) => (error ? reject(error) : resolve(session)));
      });
    },

    async accessToken() {
      const session = await this.session();
      if (!session) throw new Error('Not signed in.');
      return session.getAccessToken().getJwtToken();
    },

    signOut() {
      // Forgets this tab's tokens; the refresh token itself stays valid until it expires.
      pool.getCurrentUser()?.signOut();
    },
  };
}
