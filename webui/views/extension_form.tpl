% rebase('base.tpl', title=_('Extension'), back_path='/extensions')
% if ext is None:
<h1>{{_('Add extension')}}</h1>
% else:
<h1>{{_('Extension')}} {{ext.number}}</h1>
% end
% for err in errors:
<p class="error" role="alert">{{err}}</p>
% end
<form method="post" action="{{'/extensions' if ext is None else '/extensions/' + ext.number}}" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
% if ext is None:
<label>{{_('Number')}} <input name="number" id="number" value="{{form.get('number', '')}}" required pattern="[0-9]{2,15}" inputmode="numeric"></label>
% end
<label>{{_('Name')}} <input name="name" id="ext-name" value="{{form.get('name', '')}}" maxlength="64"></label>
% if ext is not None:
<label><input type="checkbox" name="enabled" value="1" {{'checked' if form.get('enabled') else ''}}> {{_('Enabled')}}</label>
% end
<label>{{_('Digest')}} <select name="digest_algorithms">
% for c in choices:
<option value="{{c}}" {{'selected' if form.get('digest_algorithms', 'MD5') == c else ''}}>{{c}}</option>
% end
</select></label>
<p class="hint">{{_('Offer SHA-256 only to phones that support it; MD5 works with every phone.')}}</p>
<button type="submit" id="save">{{_('Save')}}</button>
</form>
% if ext is not None:
<form method="post" action="/extensions/{{ext.number}}/password" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button type="submit" data-confirm="{{_('The phone stops working until it gets the new password. Continue?')}}">{{_('New SIP password')}}</button>
</form>
<form method="post" action="/extensions/{{ext.number}}/delete" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button type="submit" class="danger" id="delete" data-confirm="{{_('Delete this extension?')}}">{{_('Delete')}}</button>
</form>
% end
