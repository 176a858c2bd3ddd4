import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '#commons/powertools.ts';

/** Module-scope DynamoDB document client, traced; throttles that outlast the SDK retries reach the ASL Retry. */
export const dynamoClient = DynamoDBDocumentClient.from(
  tracer.captureAWSv3Client(new DynamoDBClient()),
  { marshallOptions: { removeUndefinedValues: true } },
);
