import { PipeTransform } from '@nestjs/common';
import { DomainError } from '@app/contracts';

/** An id that is not a UUID names nothing: 404, like any other missing resource. */
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) throw new DomainError('not_found', 'No such resource.');
    return value.toLowerCase();
  }
}
