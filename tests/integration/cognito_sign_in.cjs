// Signs a user in to a user pool as a web page does, with amazon-cognito-identity-js
// (USER_SRP_AUTH, the library's default flow) pointed at the pool's endpoint, and prints the
// outcome as one JSON line: the tokens, the next challenge, or the refusal.
//
//   node tests/integration/cognito_sign_in.cjs ENDPOINT USER_POOL_ID CLIENT_ID USERNAME PASSWORD
"use strict";

const {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
} = require("amazon-cognito-identity-js");

const [endpoint, userPoolId, clientId, username, password] = process.argv.slice(2);
const pool = new CognitoUserPool({ UserPoolId: userPoolId, ClientId: clientId, endpoint });
const user = new CognitoUser({ Username: username, Pool: pool });

function done(outcome) {
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

function challenge(name) {
  return () => done({ outcome: "challenge", challenge: name });
}

user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
  onSuccess: (session) =>
    done({
      outcome: "tokens",
      accessToken: session.getAccessToken().getJwtToken(),
      idToken: session.getIdToken().getJwtToken(),
    }),
  onFailure: (error) =>
    done({ outcome: "refused", code: error.code || error.name, message: error.message }),
  newPasswordRequired: challenge("NEW_PASSWORD_REQUIRED"),
  mfaSetup: challenge("MFA_SETUP"),
  totpRequired: challenge("SOFTWARE_TOKEN_MFA"),
  mfaRequired: challenge("SMS_MFA"),
});
